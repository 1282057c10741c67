cd /tmp/p11/rv12b
for f in a10 a11 a12 a13 b10 b11 b12 c10 c11 c12 d10 d11; do for me in REML ML; do
 (cd /work/rv12b && PYTHONPATH=$PWD timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$f.csv arh $me 2>/dev/null) >> mf_arh.jsonl
 timeout 300 Rscript dense12b.R d_$f.csv arh $me >> R_arh.jsonl 2>/dev/null
done; done
echo done > batch1.done
