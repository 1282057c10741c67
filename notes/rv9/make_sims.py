import numpy as np, pandas as pd
D = "/tmp/p9/rv9/data/"
def van2(seed=11):
    rng = np.random.default_rng(seed); rows=[]
    for s in range(50):
        b = rng.normal(0, 1.5)
        for g, (mu, sd, k) in {"A":(5,1,1),"B":(6,0.7,1),"C":(7,0,0.8),"D":(8,2,1),"E":(9,0,1.3)}.items():
            x = rng.uniform(0,3)
            rows.append((f"s{s:02d}", g, round(x,4), round(mu + 0.5*x + k*b + sd*rng.normal(), 5) if sd>0 else round(mu + 0.5*x + k*b, 5)))
    return pd.DataFrame(rows, columns=["subject","stratum","x","y"])
def small(seed=5, ratio=5e-5, reps=3):
    rng = np.random.default_rng(seed); rows=[]
    for s in range(30):
        b = rng.normal(0, 2)
        for g, sd in {"A":1.0,"B":ratio,"C":1.5,"D":0.6}.items():
            for _ in range(reps):
                x = rng.uniform(0,4)
                rows.append((f"s{s:02d}", g, round(x,5), round(3 + (ord(g)-65) + b + 0.8*x + sd*rng.normal(), 10)))
    return pd.DataFrame(rows, columns=["subject","stratum","x","y"])
def ar1hi(seed=2, rho=0.97, n=30, T=8):
    rng = np.random.default_rng(seed); rows=[]
    for s in range(n):
        b = rng.normal(0, 1.0); e = rng.normal()*1.0
        for t in range(T):
            if t: e = rho*e + np.sqrt(1-rho**2)*rng.normal()
            rows.append((f"s{s:02d}", t+1, f"t{t+1}", round(2 + 0.3*t + b + e, 6)))
    return pd.DataFrame(rows, columns=["subject","t","tf","y"])
def crossed(seed=4, n=25, T=6, items=5):
    rng = np.random.default_rng(seed); rows=[]
    for s in range(n):
        e = rng.normal()
        for t in range(T):
            if t: e = 0.6*e + 0.8*rng.normal()
            rows.append((f"s{s:02d}", f"t{t+1}", f"i{rng.integers(items)}", round(1 + 0.2*t + 1.3*e, 6)))
    return pd.DataFrame(rows, columns=["subject","tf","item","y"])
if __name__ == "__main__":
    van2().to_csv(D+"van2.csv", index=False)
    small().to_csv(D+"small5e5.csv", index=False)
    small(seed=8, ratio=3e-4, reps=1).to_csv(D+"small3e4_1.csv", index=False)
    ar1hi().to_csv(D+"ar1hi.csv", index=False)
    crossed().to_csv(D+"crossed.csv", index=False)
