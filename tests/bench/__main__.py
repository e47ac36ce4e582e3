import sys

from tests.bench.bench_run import main

sys.exit(main())
