"""keactl: a DHCP toolkit and server that speaks ISC Kea's languages."""
import glob

from setuptools import setup

PACKAGES = [
    "kea_tools",
    "kea_tools.codec",
    "kea_tools.config",
    "kea_tools.leases",
    "kea_tools.classify",
    "kea_tools.server",
    "kea_tools.migrate",
    "kea_tools.sim",
]

setup(
    name="keactl",
    version="0.1.0",
    description="DHCPv4/DHCPv6 toolkit and server driven by ISC Kea configuration",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MPL-2.0",
    python_requires=">=3.10",
    packages=PACKAGES,
    # The three applications install under kea_tools so nothing generic lands at
    # the top of site-packages; in the tree they sit beside the library.
    package_dir={
        "kea_tools.server": "server",
        "kea_tools.migrate": "migrate",
        "kea_tools.sim": "sim",
    },
    package_data={"kea_tools.codec": ["data/*.json"]},
    install_requires=[
        "click>=8.1",
        "ply>=3.11",
        "tabulate>=0.9",
        "sqlite-utils>=3.35",
        "faker>=20",
    ],
    extras_require={
        "postgresql": ["psycopg2-binary>=2.9"],
        "test": [
            "pytest>=7",
            "hypothesis>=6",
            "scapy>=2.5",
            "pytest-benchmark>=4",
            "pytest-timeout>=2",
            "wheel",
            "psycopg2-binary>=2.9",
        ],
    },
    entry_points={"console_scripts": ["keactl=kea_tools.cli:main"]},
    data_files=[
        ("share/man/man1", sorted(glob.glob("man/*.1"))),
        ("share/man/man7", sorted(glob.glob("man/*.7"))),
        ("share/man/man8", sorted(glob.glob("man/*.8"))),
    ],
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: System :: Networking",
    ],
)
