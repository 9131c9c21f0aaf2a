# flake.nix: the sealed image rebuilt with Nix from the same locked Debian packages and the same
# scripts as `make image BUILDROOT=root` (docs/image.md, "The build environment").
#
# Nix supplies only the sandbox, QEMU and the fetches: every tool that shapes the image's bytes is a
# Debian package of image/buildroot.lock, fetched as a fixed-output derivation whose URL and sha256
# come from nix/debs.json, which `scripts/buildroot.py nix-inputs` generates from the lock (make
# lock-update runs it; tests/image/test_flake.py checks that it equals the lock). The root is made
# by nixpkgs' vmTools.fillDiskWithDebs in a VM, and the build runs in that root with
# vmTools.runInLinuxImage (no network in the Nix sandbox).
#
# The other pinned inputs (Debian's kernel, the kernel source and the UEFI stub .debs, the musl
# dependencies' and edk2's source packages) come from a source archive, `make source-archive`,
# named by the environment: SEALED_SOURCE_ARCHIVE=/path/to/archive nix build --impure .#image
#
# NOT RUN: Nix's binary cache and GitHub are unreachable from the machines this was written on;
# `nix-instantiate --parse flake.nix` and the input test are what ran (docs/status.md).
{
  description = "sealed-login: the sealed VM image, built from the Debian packages of image/buildroot.lock";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      inputs = builtins.fromJSON (builtins.readFile ./nix/debs.json);
      fetchDeb = d: pkgs.fetchurl {
        name = "${d.name}_${builtins.replaceStrings [ ":" ] [ "%3a" ] d.version}_${d.arch}.deb";
        url = d.url;
        sha256 = d.sha256;
      };
      archive = builtins.getEnv "SEALED_SOURCE_ARCHIVE";
      sources = if archive == "" then throw "SEALED_SOURCE_ARCHIVE=DIR (make source-archive) and --impure are needed"
                else builtins.path { path = /. + archive; name = "sealed-login-source-archive"; };
      rootDebs = map fetchDeb (builtins.filter (d: d.root) inputs.debs);

      # the build root: exactly the locked packages, installed by dpkg in a VM (one group: dpkg
      # orders them itself)
      buildroot = pkgs.vmTools.fillDiskWithDebs {
        name = "sealed-login-buildroot";
        fullName = "sealed-login build root (image/buildroot.lock)";
        size = 8192;
        debs = [ rootDebs ];
      };

      # one make target run inside the root, with the repository at the path the build records
      inRoot = target: out: pkgs.vmTools.runInLinuxImage (pkgs.stdenv.mkDerivation {
        name = "sealed-login-${out}";
        src = self;
        diskImage = buildroot;
        memSize = 4096;
        buildCommand = ''
          export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C TZ=UTC HOME=/root
          mkdir -p /work/src && cp -r $src/. /work/src && cd /work/src
          export SOURCE_COMMIT=${self.rev or "unknown+dirty"}
          export SOURCE_DATE_EPOCH=${toString (self.lastModified or 0)}
          export SEALED_SOURCE_ARCHIVE=${sources} SEALED_IN_ROOT=1
          scripts/image-sources.sh fetch
          make BUILDROOT=root ${target}
          mkdir -p $out && cp -r build/${out}/. $out/
        '';
      });
    in {
      packages.${system} = {
        image = inRoot "image" "image";
        initramfs = inRoot "IMAGE_OVMF= image" "image";
        buildroot = buildroot;
        default = self.packages.${system}.image;
      };

      # the host-side tools: what make buildroot-run needs outside the root
      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [ mmdebstrap dpkg apt python3 gnumake util-linux git qemu ];
      };
    };
}
