#!/bin/sh
# Fuzzes the pure protocol target with libFuzzer: Tests/Fuzz/run.sh [seconds] [extra libFuzzer flags]
# (default 60 s). Inputs go up to 64 KiB, so over-long lines and data blocks are reached too. The harness is compiled together with the sources, outside SwiftPM, because a
# SwiftPM executable target cannot link libFuzzer. New inputs go to .build-fuzz/corpus, crashes to
# .build-fuzz/crash-*; the checked-in seeds in Tests/Fuzz/corpus are only read.
set -eu
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
[ $# -gt 0 ] && shift
mkdir -p .build-fuzz/corpus
swiftc -O -sanitize=fuzzer,address -parse-as-library \
    Sources/CommandProtocol/*.swift Tests/Fuzz/FuzzCommandParser.swift \
    -o .build-fuzz/fuzz-parser
# The Swift runtime's backtracer would hang on a crash under libFuzzer; libFuzzer reports it instead.
export SWIFT_BACKTRACE=enable=no
exec .build-fuzz/fuzz-parser -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix=.build-fuzz/ "$@" .build-fuzz/corpus Tests/Fuzz/corpus
