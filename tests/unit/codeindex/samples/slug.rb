require 'set'
require_relative 'text'

module Text
  # Turns titles into URL slugs.
  class Slugger
    STOP = Set.new(%w[a the])

    def initialize(sep = '-')
      @sep = sep
    end

    def slugify(title)
      title.downcase.split.reject { |w| STOP.include?(w) }.join(@sep)
    end

    def self.default
      new
    end
  end
end
