cd /tmp/p11/rv12b
while [ ! -f batch3.done ]; do sleep 5; done
for f in r10 r11 r12 a12 a13; do for me in REML; do
 (cd /work/rv12b && PYTHONPATH=$PWD timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$f.csv rs $me 2>/dev/null) >> mf_rs.jsonl
 timeout 300 Rscript dense12b.R d_$f.csv rs $me >> R_rs.jsonl 2>/dev/null
done; done
echo done > batch4.done
