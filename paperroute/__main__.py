from paperroute.cli import main

raise SystemExit(main())
