import sys
sys.path.insert(0, "/tmp/p10/rv10")
from make_crossed import crossed
if __name__ == "__main__":
    d = crossed(41, 25, 6, 1, rho=0.85, item_sd=0.0)
    d.drop(columns="item").to_csv("data/prof_a.csv", index=False)
