"""`robo tray`: the agents' launcher next to the clock (issue 12).

Pure-logic modules (no Qt import, tested without a screen): `api` (the HTTP client), `queue` (the
durable offline queue of launches), `menu` (the menu model), `form` (the launch form from a robot's
inputs), `prefs` (favourites and remembered values), `runstate` (a run's state machine),
`credentials` (the token in the keyring or a private file), `backoff` (retry delays). Qt: `dialog`
(the launch dialog), `look` (icon and texts) and `app` (the tray icon and its menu).
"""
