import json, numpy as np
d = json.load(open('/work/shared/reference/cov/fev_mmrm_toep_reml.json'))
S = np.array(d['params']['covariance']['matrix']); rho = S[0, 1:] / S[0, 0]
def acf_to_pacf(r):           # Durbin-Levinson forward
    m = len(r); phi = np.zeros(0); pac = []
    for k in range(1, m + 1):
        rr = np.r_[1.0, r]
        num = r[k-1] - sum(phi[j] * r[k-2-j] for j in range(k-1))
        den = 1 - sum(phi[j] * r[j] for j in range(k-1))
        pk = num / den; pac.append(pk)
        phi = np.r_[phi - pk * phi[::-1], pk]
    return np.array(pac)
def pacf_to_acf(pac):         # Levinson inverse: autocorrelations from partial autocorrelations
    r = []; phi = np.zeros(0)
    for k, pk in enumerate(pac, start=1):
        rk = sum(phi[j] * r[k-2-j] for j in range(k-1)) + pk * (1 - sum(phi[j] * r[j] for j in range(k-1)))
        r.append(rk); phi = np.r_[phi - pk * phi[::-1], pk]
    return np.array(r)
pac = acf_to_pacf(rho); print("rho", rho, "pacf", pac, "roundtrip", pacf_to_acf(pac) - rho)
u = np.random.default_rng(1).normal(size=(2000, 5)) * 3
ok = all(np.linalg.eigvalsh(np.array([[1 if i == j else pacf_to_acf(np.tanh(uu))[abs(i-j)-1] for j in range(6)] for i in range(6)])).min() > 0 for uu in u)
print("random PACF -> PD Toeplitz:", ok)
for scale in (0.5, 1, 2, 3):
    u = np.random.default_rng(2).normal(size=(2000, 5)) * scale
    mins = []
    for uu in u:
        r = pacf_to_acf(np.tanh(uu)); T = np.array([[1 if i == j else r[abs(i-j)-1] for j in range(6)] for i in range(6)])
        # exact det = prod (1-pi_k^2)^(m-k)
        det_exact = np.prod([(1 - np.tanh(x)**2)**(6-k) for k, x in enumerate(uu, start=1)])
        mins.append((np.linalg.eigvalsh(T).min(), np.linalg.det(T) / det_exact))
    mins = np.array(mins); print(scale, "min eig", mins[:,0].min(), "det ratio range", mins[:,1].min(), mins[:,1].max())
