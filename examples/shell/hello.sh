#!/bin/sh
# Counts to the number given as the first argument (default 3) with shell builtins only.
limit=${1:-3}
i=1
while [ "$i" -le "$limit" ]; do
    echo "shell example: count $i of $limit"
    i=$((i + 1))
done
echo "shell example: done in $PWD"
