#!/usr/bin/env python3
"""pe-timestamp.py: sets a PE image's COFF TimeDateStamp to a given value and recomputes the
optional header's CheckSum, in place. objcopy (binutils 2.40) stamps the time of the run into
every PE it writes and ignores SOURCE_DATE_EPOCH; the stamp is part of the Authenticode digest the
firmware measures into PCR 4, so the UKI would differ on every build without this.

    scripts/pe-timestamp.py FILE SECONDS
"""
import struct
import sys


def pe_checksum(data, checksum_off):
    """The PE checksum (as IMAGEHLP's CheckSumMappedFile): 16-bit words summed with end-around
    carry, plus the file length. The CheckSum field must be zero in data."""
    assert data[checksum_off:checksum_off + 4] == b"\0\0\0\0"
    n = len(data)
    padded = data + (b"\0" if n % 2 else b"")
    total = 0
    for (w,) in struct.iter_unpack("<H", padded):
        total += w
        total = (total & 0xFFFF) + (total >> 16)
    return (total + n) & 0xFFFFFFFF


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, stamp = sys.argv[1], int(sys.argv[2])
    data = bytearray(open(path, "rb").read())
    if data[:2] != b"MZ":
        sys.exit(f"pe-timestamp: {path}: not a PE image (no MZ header)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        sys.exit(f"pe-timestamp: {path}: no PE signature at 0x{pe:x}")
    struct.pack_into("<I", data, pe + 8, stamp & 0xFFFFFFFF)       # COFF header TimeDateStamp
    checksum_off = pe + 24 + 64                                     # optional header CheckSum (PE32 and PE32+)
    struct.pack_into("<I", data, checksum_off, 0)
    struct.pack_into("<I", data, checksum_off, pe_checksum(bytes(data), checksum_off))
    open(path, "wb").write(data)


if __name__ == "__main__":
    main()
