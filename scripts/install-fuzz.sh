#!/usr/bin/env bash
# Installs cargo-fuzz (the libFuzzer driver for Rust) if it is not already on PATH.
#
# cargo-fuzz itself builds on stable Rust. Running a fuzz target needs nightly-only rustc flags
# (`-Zsanitizer`, `-Cpasses=sancov-module`); scripts/fuzz.sh uses a nightly toolchain when
# one is installed and otherwise stable rustc with RUSTC_BOOTSTRAP=1, which unlocks those
# flags (the sanitizer runtimes ship with stable's x86_64 Linux standard library).
set -euo pipefail

if cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz already installed: $(cargo fuzz --version)"
    exit 0
fi

# Pinned, so every machine fuzzes with the same driver; bump deliberately.
cargo install --locked cargo-fuzz --version 0.13.2
cargo fuzz --version
