cd /tmp/p11/rv12b
for f in a14 a15 a16 a17 d12 d13 a18 a19; do
 (cd /work/rv12b && PYTHONPATH=$PWD timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$f.csv arh REML 2>/dev/null) >> mf_b5.jsonl
 timeout 300 Rscript dense12b.R d_$f.csv arh REML >> R_b5.jsonl 2>/dev/null
done
echo done > batch5.done
