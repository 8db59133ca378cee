"""Pure export rules: columns, headers, association cells, formula safety, links."""
