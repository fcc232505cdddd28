"""`moodshift train style`: Johnson feed-forward networks trained per emotion (the network,
the content data, the loop and its report)."""
