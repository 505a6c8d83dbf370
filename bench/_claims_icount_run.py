"""Run by ``claims_icount.sh`` under callgrind: a warm-up on seed 11's N claims, then, once the flag file exists
(instrumentation on), seed 13's N fresh claims (``CHUNK`` at a time, as ``medcoder claim-batch``); then waits
for ``<flag>.stop`` (instrumentation off)."""

import gc
import os
import sys
import time
from datetime import date

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, settings_for  # noqa: E402
from bench_claims import Batch, claim_set  # noqa: E402
from medcoder.codesets.codesets import Codesets  # noqa: E402
from medcoder.service.claim_batch import CHUNK  # noqa: E402

n, flag = int(sys.argv[1]), sys.argv[2]
settings = settings_for(None)
ensure_built(settings)
base = Codesets.for_date(date(2026, 3, 1), settings=settings)
batch = Batch(settings)
_, _, warm = claim_set(base, n, 11)
for i in range(0, len(warm), CHUNK):
    batch.check_and_price_many(warm[i:i + CHUNK])
_, _, fresh = claim_set(base, n, 13)
gc.collect()
print("READY", flush=True)
while not os.path.exists(flag):
    time.sleep(0.05)
for i in range(0, len(fresh), CHUNK):
    batch.check_and_price_many(fresh[i:i + CHUNK])
os.remove(flag)
print("DONE", flush=True)
while not os.path.exists(flag + ".stop"):
    time.sleep(0.05)
