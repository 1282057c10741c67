#!/bin/bash
# manual first-parent bisect for seed 7: good = 3.514..., bad = 3.5041...
cd /tmp/p14/rv20
mapfile -t L < <(git -C /work/main rev-list --first-parent --reverse ad88b21..22af57b)
lo=-1; hi=$((${#L[@]}-1))   # L[hi] = 22af57b is bad; ad88b21 (index -1) good
while [ $((hi-lo)) -gt 1 ]; do
  mid=$(((lo+hi)/2)); c=${L[$mid]:0:7}
  out=$(./bis.sh $c); echo "$out" >> bisect.log
  ll=$(echo "$out" | awk '{print $2}')
  if [[ "$ll" == 3.5041* ]]; then hi=$mid; else lo=$mid; fi
done
echo "FIRST BAD ${L[$hi]:0:7} (last good ${L[$lo]:0:7})" >> bisect.log
