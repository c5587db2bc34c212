#!/bin/sh
# Turns a text file into a C source defining `const char NAME[]` with its
# contents, so documents the model is shown and the report page's scripts
# and styles are built into the binary.
# usage: embed-text.sh NAME FILE > out.c   (FILE may be absent: empty text)
name=$1
file=$2
echo "/* generated from $file by scripts/embed-text.sh; do not edit */"
echo "const char $name[] ="
if [ -f "$file" ]; then
    # `?` is escaped so that "??(" in a script is not read as a trigraph
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/\t/\\t/g' -e 's/\r/\\r/g' \
        -e 's/^/    "/' -e 's/$/\\n"/' "$file"
fi
echo '    "";'
