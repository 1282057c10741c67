cd /tmp/p11/rv12b
while [ ! -f batch1.done ]; do sleep 5; done
for f in a12 a13 a10; do for v in shuffle yc; do
 (cd /work/rv12b && PYTHONPATH=$PWD timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$f.csv arh REML $v 2>/dev/null) >> mf_b3.jsonl
done; done
for f in a12 a13; do
 (PYTHONPATH=/tmp/p11/rv12b/old timeout 300 /work/main/.venv/bin/python /tmp/p11/rv12b/mf12b.py /tmp/p11/rv12b/d_$f.csv arh REML old 2>/dev/null) >> mf_old.jsonl
done
echo done > batch3.done
