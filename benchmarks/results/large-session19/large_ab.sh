#!/bin/bash
# Interleaved A/B of the large models: old (250e45e, before issue 15's first commit) vs main, CPU of one process per model.
cd /work/main
out=/tmp/p19/lead/large
mkdir -p $out
for round in 1 2; do
  for tree in old main; do
    if [ $tree = old ]; then pp=/tmp/p18/lead/old15; else pp=/work/main; fi
    for m in insteval-reml insteval-ml insteval-dept; do
      PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$pp .venv/bin/python benchmarks/py_worker.py mixedfit $m --repeat 3 --warmup 1 --out $out/$m-$tree-$round.json
    done
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$pp .venv/bin/python benchmarks/py_worker.py mixedfit crossed-1e6 --repeat 1 --warmup 0 --out $out/crossed-1e6-$tree-$round.json
  done
done
