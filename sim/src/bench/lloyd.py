"""scikit-learn's KMeans on the matrix `npm run bench -- lloyd` wrote: prints one JSON line.

argv: matrix.f32 (row-major float32), rows, columns, k, n_init, seed.
Only the fit is timed (not loading numpy or the file).
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans

path, n, d, k, n_init, seed = sys.argv[1], *map(int, sys.argv[2:7])
X = np.fromfile(path, dtype=np.float32).reshape(n, d).astype(np.float64)
started = time.perf_counter()
fit = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "inertia": float(fit.inertia_), "iterations": int(fit.n_iter_), "version": sklearn.__version__}))
