import sys; sys.path.insert(0, "/work/wt-rv26/tests/reference/cov_cs_ml")
from make_cs_ml import extra
extra(30, 4, 7, 2, 8).to_csv("ev2.csv", index=False)
extra(30, 4, 7, 6, 8).to_csv("ev6.csv", index=False)
extra(30, 4, 7, 4, 9).to_csv("ev4.csv", index=False)
