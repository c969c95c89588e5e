from seqclass.cli import main

raise SystemExit(main())
