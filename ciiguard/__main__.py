from ciiguard.cli import main

raise SystemExit(main())
