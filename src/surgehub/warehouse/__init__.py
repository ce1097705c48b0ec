"""The warehouse: schema, connections, loading and the queries the board's figures come from."""
