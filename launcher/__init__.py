"""The platform's launcher: `python -m launcher run | migrate | seed`.

It is the one package that knows every service (`launcher.registry`); the shared kernel in
`services/` knows none of them. Each service brings its own settings and seed.
"""
