# deploy-gcp: Google Cloud deployment with deploy/gcp/*.sh (docs/deploy-gcp.md). Nothing here is
# built by `make all`. The PayPal secret is named by a file (PAYPAL_SECRET_FILE), never given as a
# value: make would put it on a command line.
#   make deploy-gcp-plan GCP_PROJECT=p DOMAIN=login.example.com PAYPAL_CLIENT_ID=... [GCP_ARGS="--zone us-west1-b ..."]
#   make deploy-gcp      GCP_PROJECT=p DOMAIN=... PAYPAL_CLIENT_ID=... PAYPAL_SECRET_FILE=path [GCP_ARGS=...]
#   make teardown-gcp    GCP_PROJECT=p [GCP_ARGS="--name ... --yes"]
GCP_IMAGE ?= build/image/sealed-login-gcp.tar.gz
GCP_DEPLOY = deploy/gcp/deploy.sh --project "$(GCP_PROJECT)" --domain "$(DOMAIN)" --paypal-client-id "$(PAYPAL_CLIENT_ID)" \
             --image "$(GCP_IMAGE)"
.PHONY: deploy-gcp deploy-gcp-plan teardown-gcp shellcheck-deploy-gcp
deploy-gcp-plan:
	$(GCP_DEPLOY) --dry-run $(GCP_ARGS)
deploy-gcp:
	$(GCP_DEPLOY) $(if $(PAYPAL_SECRET_FILE),--paypal-secret-file "$(PAYPAL_SECRET_FILE)") $(GCP_ARGS)
teardown-gcp:
	deploy/gcp/teardown.sh --project "$(GCP_PROJECT)" $(GCP_ARGS)
shellcheck-deploy-gcp:
	shellcheck -x -S warning deploy/gcp/*.sh
