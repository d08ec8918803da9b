"""kea_tools.sim"""
