# The Pier agent on the Debian root that scripts/images.sh makes with debootstrap (no registry
# pull). The build context holds two tarballs the script fetched with npm: node.tgz (Node.js 22
# from the npm registry's node-linux-<arch> package, the binary `npm i -g node@22` installs, as CI
# does) and pier-agent.tgz (`npm pack -w agent-relay`). The agent bundle has no dependencies, so
# installing it is unpacking it where `npm i -g` would put it.
ARG BASE=pier-base/debian:bookworm
FROM ${BASE}
COPY node.tgz pier-agent.tgz /tmp/
RUN tar -xzf /tmp/node.tgz -C /usr/local --strip-components=1 package/bin/node \
 && mkdir -p /usr/local/lib/node_modules/pier-agent \
 && tar -xzf /tmp/pier-agent.tgz -C /usr/local/lib/node_modules/pier-agent --strip-components=1 \
 && chmod 755 /usr/local/lib/node_modules/pier-agent/dist/pier-agent.js \
 && ln -s ../lib/node_modules/pier-agent/dist/pier-agent.js /usr/local/bin/pier-agent \
 && rm /tmp/node.tgz /tmp/pier-agent.tgz \
 && useradd --system --create-home --home-dir /home/pier --shell /usr/sbin/nologin pier \
 && node --version
# An imported root carries no environment, not even PATH.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production
USER pier
WORKDIR /home/pier
STOPSIGNAL SIGTERM
CMD ["pier-agent"]
