"""Pure rules of the records service: no I/O, standard library only.

Modules: object_types, properties (+ standard_properties), lifecycle, pipelines,
rollups, merge, engagements, timeline, errors. Handlers call these; adapters
never do.
"""
