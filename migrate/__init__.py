"""kea_tools.migrate"""
