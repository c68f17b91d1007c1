"""``python -m envs.server --env minidesk|osworld|<module>:<callable> --port N``."""

from envs.server.app import main

raise SystemExit(main())
