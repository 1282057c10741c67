import pandas as pd, numpy as np
for a, b in (("toep2_ml3_ab", "toep2_ml3_ba"), ("ar13_reml16_bca", "ar13_reml16_abc")):
    A = pd.read_csv(f"/tmp/p15/rv23/fit_{a}_ranef.csv", index_col=0).sort_index()
    B = pd.read_csv(f"/tmp/p15/rv23/fit_{b}_ranef.csv", index_col=0).sort_index()
    print(a, b, A.shape, B.shape, "index equal", (A.index == B.index).all(), "max|diff|", float(np.abs(A.values - B.values).max()),
          "max|ranef|", float(np.abs(A.values).max()))
