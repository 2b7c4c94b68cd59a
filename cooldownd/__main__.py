from cooldownd.cli import main

raise SystemExit(main())
