# OCI deployment (docs/deploy-oci.md): deploy/oci/sealed-deploy-oci through build/sealed-oci-request.
#   make deploy-oci-plan | deploy-oci | deploy-oci-teardown-plan | deploy-oci-teardown [OCI_SETTINGS=file] [OCI_PROFILE=name]
# The PayPal secret comes from the settings' paypal_secret_file, never from make's command line.
OCI_SETTINGS ?= $(HOME)/.config/sealed-login/oci.settings
OCI_PROFILE  ?= DEFAULT
DEPLOY_OCI   := deploy/oci/sealed-deploy-oci --settings $(OCI_SETTINGS) --profile $(OCI_PROFILE)
.PHONY: deploy-oci deploy-oci-plan deploy-oci-teardown deploy-oci-teardown-plan deploy-oci-guard
deploy-oci-plan: $(BUILD)/sealed-oci-request
	$(DEPLOY_OCI) plan
deploy-oci: $(BUILD)/sealed-oci-request
	$(DEPLOY_OCI) deploy
deploy-oci-teardown-plan: $(BUILD)/sealed-oci-request
	$(DEPLOY_OCI) teardown-plan
deploy-oci-teardown: $(BUILD)/sealed-oci-request
	$(DEPLOY_OCI) teardown
deploy-oci-guard: $(BUILD)/sealed-oci-request
	$(DEPLOY_OCI) guard
