"""kea_tools.server"""
