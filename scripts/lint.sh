#!/bin/sh
# make lint: the banned functions of STYLE.md (strcpy strcat sprintf gets sscanf strtok, and
# their w/v variants) must not appear in C sources. Prints offenders; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
hits=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|gets|sscanf|strtok)\s*\(' --include='*.c' --include='*.h' --include='*.cc' src tests bench fuzz 2>/dev/null \
       | grep -vE '\b(snprintf|vsnprintf)\s*\(' )
if [ -n "$hits" ]; then
    echo "$hits"
    echo "lint: banned functions used (see ../shared/STYLE.md)"
    exit 1
fi
echo "lint: ok"
