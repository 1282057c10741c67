"""rv20 Q1: data C's saved file with residual.vanished removed (an 'old' file): same verdict, same df?"""
import json, warnings, pathlib, mixedfit as mf
p = pathlib.Path("/tmp/p14/rv20/c.json"); doc = json.loads(p.read_text()); doc["residual"].pop("vanished")
p2 = p.with_name("c_old.json"); p2.write_text(json.dumps(doc))
for q in (p, p2):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        g = mf.load_fit(q); t = g.coef_table()
    print(q.name, g._engine.vanished, t["df"].tolist(), t["std_error"].tolist())
    for w in seen: print("  ", w.category.__name__, str(w.message)[:120])
