package localstack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrToolsMissing reports that local-kms, Java or DynamoDB Local is not installed; `make tools` installs them.
var ErrToolsMissing = errors.New("local tools missing: run `make tools` (infra/local/install.sh)")

// toolPaths locates the installed tools under a .tools directory.
type toolPaths struct {
	localKMS    string
	java        string
	dynamoDBDir string // the emulator directory holding DynamoDBLocal.jar and DynamoDBLocal_lib
}

// findTools resolves the tools under toolsDir ("" means <repo>/.tools, the repository found from the working
// directory) and checks that they exist.
func findTools(toolsDir, javaPath string) (toolPaths, error) {
	if toolsDir == "" {
		root, err := repoRoot()
		if err != nil {
			return toolPaths{}, err
		}
		toolsDir = filepath.Join(root, ".tools")
	}
	if javaPath == "" {
		javaPath = "java"
	}
	java, err := exec.LookPath(javaPath)
	if err != nil {
		return toolPaths{}, fmt.Errorf("java (%s) not found, DynamoDB Local needs Java 17+: %w", javaPath, ErrToolsMissing)
	}
	tp := toolPaths{
		localKMS:    filepath.Join(toolsDir, "bin", "local-kms"),
		java:        java,
		dynamoDBDir: filepath.Join(toolsDir, "node", "node_modules", "amplify-dynamodb-simulator", "emulator"),
	}
	for _, f := range []string{tp.localKMS, filepath.Join(tp.dynamoDBDir, "DynamoDBLocal.jar")} {
		if _, err := os.Stat(f); err != nil {
			return toolPaths{}, fmt.Errorf("%s not installed: %w", f, ErrToolsMissing)
		}
	}
	return tp, nil
}

// repoRoot walks up from the working directory to the directory holding go.mod: tests run in their package
// directory, the dev server and the wrapper at the root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod above the working directory: %w", ErrToolsMissing)
		}
		dir = parent
	}
}
