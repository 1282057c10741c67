cd /tmp/p11/rv12b
while [ ! -f batch1.done ]; do sleep 5; done
for spec in "a10 ar1h" "b10 ar1h" "d10 ar1h" "d11 ar1h" "e10 csh" "e11 csh" "a11 csh"; do set -- $spec; for me in REML ML; do
 (cd /work/rv12b && PYTHONPATH=$PWD timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$1.csv $2 $me 2>/dev/null) >> mf_b2.jsonl
 timeout 300 Rscript dense12b.R d_$1.csv $2 $me >> R_b2.jsonl 2>/dev/null
done; done
echo done > batch2.done
