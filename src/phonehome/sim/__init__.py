"""The phone fleet simulator: ``phonehome simulate`` boots thousands of realistic phones against a server."""
