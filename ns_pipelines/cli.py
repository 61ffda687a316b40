"""The `ns-pipelines` command line."""
import click


@click.group()
def main() -> None:
    """ns-pipelines: NetSuite and Stripe accounts-receivable sync, with a local sandbox."""


if __name__ == "__main__":
    main()
