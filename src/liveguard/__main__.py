from liveguard.cli import main

raise SystemExit(main())
