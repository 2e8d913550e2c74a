"""A third-party Robocore plugin, installed by the tests like any other package."""
