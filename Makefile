# Convenience targets; the README's two commands need none of them.

.PHONY: build image compose-test test

build:
	CGO_ENABLED=0 go build -trimpath -o ringtable ./cmd/ringtable

# image builds the FROM-scratch image used by docker-compose.yml.
image: build
	docker build -t ringtable:dev .

# compose-test brings the compose cluster up, writes through one gateway,
# stops a node, reads through the other gateway, and tears it down.
compose-test:
	./scripts/compose-test.sh

test:
	go test -race ./...
