#!/bin/sh
# Turns a text file into a C source defining `const char NAME[]` with its
# contents, so documents the model is shown are built into the binary.
# usage: embed-text.sh NAME FILE > out.c   (FILE may be absent: empty text)
name=$1
file=$2
echo "/* generated from $file by scripts/embed-text.sh; do not edit */"
echo "const char $name[] ="
if [ -f "$file" ]; then
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/    "/' -e 's/$/\\n"/' "$file"
fi
echo '    "";'
