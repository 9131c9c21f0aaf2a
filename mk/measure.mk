# sealed-measure extras (see docs/measure.md); the fuzz targets are fuzz/measure/ (mk/fuzz.mk).
#   make ovmf-amdsev                      edk2 AmdSevX64 firmware from Debian's pinned edk2 source
#   make measure-manifest KERNEL=... INITRD=... APPEND=...
#                                         expected measurements for build-manifest.json
.PHONY: ovmf-amdsev measure-manifest
ovmf-amdsev:
	scripts/ovmf-amdsev.sh $(BUILD)/measure      # edk2 tree in $${OVMF_WORKDIR:-/var/tmp/sealed-ovmf}

measure-manifest: $(BUILD)/sealed-measure
	scripts/measure-manifest.sh --ovmf $(BUILD)/measure/OVMF.amdsev.fd \
	    $(if $(KERNEL),--kernel $(KERNEL)) $(if $(INITRD),--initrd $(INITRD)) \
	    $(if $(APPEND),--append "$(APPEND)") $(if $(EFI),--efi $(EFI))
