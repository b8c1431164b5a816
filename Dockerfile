# The ringtable image: the statically built binary and nothing else, so it
# builds without downloading a base image. Build it with `make image`
# (which compiles the binary first), then `docker-compose up`.
FROM scratch
COPY ringtable /ringtable
VOLUME /data
EXPOSE 8080 4222 6222 9090
ENTRYPOINT ["/ringtable"]
