"""Organisation: units in a tree, users, posts (岗位) and their permissions, scoped access."""
