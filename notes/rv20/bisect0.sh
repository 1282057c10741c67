#!/bin/bash
cd /tmp/p14/rv20
mapfile -t L < <(git -C /work/main rev-list --first-parent --reverse ad88b21..22af57b)
lo=-1; hi=$((${#L[@]}-1))
while [ $((hi-lo)) -gt 1 ]; do
  mid=$(((lo+hi)/2)); c=${L[$mid]:0:7}; d=/tmp/rv20-bis/$c; mkdir -p $d; [ -d $d/mixedfit ] || git -C /work/main archive $c mixedfit | tar -x -C $d
  l=$(PYTHONPATH=$d timeout 600 /work/main/.venv/bin/python seed7.py 0 2>&1 | head -1)
  echo "$c $l" >> bisect0.log
  if [[ "$l" == 2.6082* ]]; then lo=$mid; else hi=$mid; fi
done
echo "FIRST BAD ${L[$hi]:0:7} (last good ${L[$lo]:0:7})" >> bisect0.log
