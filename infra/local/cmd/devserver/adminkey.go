package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// adminKeyFile keeps the generated admin API key under the local directory, so a restart prints the same key
// for the data that survived it.
const adminKeyFile = "admin-api-key"

// keySource says where the admin API key came from, for the banner.
type keySource int

const (
	keyFromEnv keySource = iota
	keyGenerated
	keyReused
)

// minAdminKeyLen is the shortest ADMIN_API_KEY the dev server accepts: the key guards the admin API and the
// local event bus, possibly behind a public tunnel (docs/security.md).
const minAdminKeyLen = 16

// adminAPIKey returns the key to accept: ADMIN_API_KEY when set (never written to disk; shorter than
// minAdminKeyLen is an error); else the key kept in dir from an earlier run, unless clean; else a new random
// key, which it keeps in dir (mode 0600).
func adminAPIKey(fromEnv, dir string, clean bool) (string, keySource, error) {
	if k := strings.TrimSpace(fromEnv); k != "" {
		if len(k) < minAdminKeyLen {
			return "", 0, fmt.Errorf("ADMIN_API_KEY has %d characters: use at least %d (e.g. the output of `openssl rand -base64 24`), or unset it to get a generated one",
				len(k), minAdminKeyLen)
		}
		return k, keyFromEnv, nil
	}
	path := filepath.Join(dir, adminKeyFile)
	if !clean {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			if k := strings.TrimSpace(string(b)); k != "" {
				return k, keyReused, nil
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", 0, fmt.Errorf("read the kept admin API key: %w", err)
		}
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", 0, fmt.Errorf("generate an admin API key: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, fmt.Errorf("keep the admin API key: %w", err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", 0, fmt.Errorf("keep the admin API key: %w", err)
	}
	return key, keyGenerated, nil
}
