# One Makefile for building (also SAM's makefile builder), running and testing.
# `make run` and `make test` install their own pinned tools into .tools/ first (infra/local/install.sh).

SHELL := /bin/bash
GO ?= go
FUNCTIONS := issue deferred-issue status definitions metadata authorize token credential deferred-credential notification console publisher
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w -buildid="
ARTIFACTS_DIR ?= bin
FUZZTIME ?= 30s

.PHONY: all build run test bench fuzz deploy clean tools lint $(addprefix build-fn-,$(FUNCTIONS))

all: build

# build: every function as a linux/arm64 `bootstrap`, as Lambda's provided.al2023 runtime wants it.
build: $(addprefix build-fn-,$(FUNCTIONS))

$(addprefix build-fn-,$(FUNCTIONS)): build-fn-%:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o bin/$*/bootstrap ./functions/$*

# SAM's makefile builder calls build-<LogicalId> with ARTIFACTS_DIR set. WALLET_TRUST_DIR (optional) holds the
# trust files of the wallet providers and of other credential issuers (*.pem roots, *.json JWKS): they are copied
# into the bundle's trust/ folder, which the WalletTrustAnchors and IssuerTrustAnchors parameters name (e.g.
# trust/provider-root.pem, trust/issuer-root.pem).
define sam_target
build-$(1):
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
	$(if $(WALLET_TRUST_DIR),mkdir -p $$(ARTIFACTS_DIR)/trust && find $(WALLET_TRUST_DIR) -maxdepth 1 -type f \( -name '*.pem' -o -name '*.json' \) -exec cp {} $$(ARTIFACTS_DIR)/trust/ \;)
endef
$(eval $(call sam_target,IssueFunction,issue))
$(eval $(call sam_target,DeferredIssueFunction,deferred-issue))
$(eval $(call sam_target,StatusFunction,status))
$(eval $(call sam_target,DefinitionsFunction,definitions))
$(eval $(call sam_target,MetadataFunction,metadata))
$(eval $(call sam_target,AuthorizeFunction,authorize))
$(eval $(call sam_target,TokenFunction,token))
$(eval $(call sam_target,CredentialFunction,credential))
$(eval $(call sam_target,DeferredCredentialFunction,deferred-credential))
$(eval $(call sam_target,NotificationFunction,notification))
$(eval $(call sam_target,ConsoleFunction,console))
$(eval $(call sam_target,PublisherFunction,publisher))

tools:
	bash infra/local/install.sh

# run: the whole API on http://127.0.0.1:$${PORT:-3000}, backed by DynamoDB Local and local-kms. CLEAN=1 starts empty.
run: tools
	$(GO) run ./infra/local/cmd/devserver $(if $(CLEAN),-clean)

# test: unit, integration and end-to-end tests against the local stack the wrapper starts and stops.
test: tools
	bash infra/local/test.sh

bench: tools
	bash infra/local/bench.sh

fuzz: tools
	FUZZTIME=$(FUZZTIME) bash infra/local/fuzz.sh

deploy: 
	sam build && sam deploy

clean:
	rm -rf bin .aws-sam .local
