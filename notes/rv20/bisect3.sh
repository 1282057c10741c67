#!/bin/bash
cd /tmp/p14/rv20
L=(28d6542 3200ed9 cfd6f7b e68e514 461325c 7e203ee 80f0588 43747c6 3583c59 2a044fe 4166d67 888d02d 32f4761 9a16e42)
lo=-1; hi=13
while [ $((hi-lo)) -gt 1 ]; do
  mid=$(((lo+hi)/2)); c=${L[$mid]}; d=/tmp/rv20-bis/$c; mkdir -p $d; [ -d $d/mixedfit ] || git -C /work/main archive $c mixedfit | tar -x -C $d
  l=$(PYTHONPATH=$d timeout 900 /work/main/.venv/bin/python ml.py 3 2>&1 | head -1)
  echo "$c $l" >> bisect3.log
  if [[ "$l" == 0.3438* ]]; then hi=$mid; else lo=$mid; fi
done
echo "FIRST BAD ${L[$hi]} (last good ${L[$lo]:-22af57b})" >> bisect3.log
